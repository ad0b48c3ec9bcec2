// socialnet's browser behaviour that HTMX attributes alone cannot express:
// the compose box's character counter, the live stream (new-posts bar, unread badge,
// deletions), and small comforts (menus close on Escape, errors show as a toast).
// No build step: plain ES2020, loaded with `defer` after htmx.
"use strict";

(function () {
  const body = document.body;
  const myId = body.dataset.userId || "";

  // --- Character counter -----------------------------------------------------------------
  // Counts code points, as the server does (posts.text.character_count: len(text)), so an
  // emoji counts once; the browser's maxlength would count UTF-16 units and cut too early.
  function updateCounter(textarea) {
    const limit = Number(textarea.dataset.maxChars);
    const counter = textarea.form && textarea.form.querySelector(".char-count");
    if (!limit || !counter) return;
    const left = limit - [...textarea.value].length;
    counter.querySelector(".char-number").textContent = String(left);
    counter.querySelector(".visually-hidden").textContent =
      left >= 0 ? " characters left" : " characters over the limit";
    counter.classList.toggle("warn", left >= 0 && left <= 20);
    counter.classList.toggle("over", left < 0);
  }
  document.addEventListener("input", (event) => {
    if (event.target.matches("textarea[data-max-chars]")) updateCounter(event.target);
  });
  function initCounters(root) {
    root.querySelectorAll("textarea[data-max-chars]").forEach(updateCounter);
  }

  // --- Menus --------------------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });

  // --- Toast for failures HTMX cannot show in place ---------------------------------------------
  const toast = document.getElementById("toast");
  let toastTimer = null;
  function showToast(message) {
    toast.textContent = message;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 5000);
  }
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr.status;
    const reasons = {
      403: "You can't do that (refused by the server).",
      404: "That is no longer available.",
      429: "Slow down: too many actions in a short time. Try again in a moment.",
    };
    showToast(reasons[status] || `Something went wrong (error ${status}). Please try again.`);
  });
  document.addEventListener("htmx:sendError", () => {
    showToast("Can't reach socialnet right now. Check your connection and try again.");
  });

  // --- Home timeline: live "N new posts" bar -------------------------------------------------
  const pending = new Set();

  function feed() {
    return document.querySelector("#timeline[data-live-feed]");
  }

  // The newest post the feed got from the server; posts the user just wrote are put on top
  // at once (data-inserted) and must not hide older arrivals from the since_id fetch.
  function newestFeedId(timeline) {
    let newest = Number(timeline.dataset.newestId || 0);
    timeline.querySelectorAll("article.post:not([data-inserted])").forEach((article) => {
      newest = Math.max(newest, Number(article.dataset.postId));
    });
    return newest;
  }

  function renderNewPostsBar() {
    const bar = document.getElementById("new-posts");
    if (!bar) return;
    const count = pending.size;
    bar.hidden = count === 0;
    bar.textContent = count === 1 ? "Show 1 new post" : `Show ${count} new posts`;
  }

  function onUpdate(status) {
    const timeline = feed();
    if (!timeline || !status || !status.id) return;
    if (status.account && String(status.account.id) === myId) return; // shown on posting
    if (document.getElementById(`post-${status.id}`)) return;
    if (Number(status.id) <= newestFeedId(timeline)) return;
    pending.add(status.id);
    renderNewPostsBar();
  }

  function showNewPosts() {
    const timeline = feed();
    if (!timeline) return;
    const since = newestFeedId(timeline);
    htmx.ajax("GET", `${timeline.dataset.newerUrl}?since_id=${since}`, { target: "#timeline", swap: "afterbegin" })
      .then(() => {
        pending.clear();
        renderNewPostsBar();
        window.scrollTo({ top: 0, behavior: "smooth" });
      });
  }
  document.addEventListener("click", (event) => {
    if (event.target.closest("#new-posts")) showNewPosts();
  });

  // A post can arrive twice (written here, then fetched; or fetched on two pages): keep the first.
  function removeDuplicates(container) {
    const seen = new Set();
    container.querySelectorAll(":scope > article.post").forEach((article) => {
      if (seen.has(article.id)) article.remove();
      else seen.add(article.id);
    });
  }

  // --- Live stream (Mastodon's streaming API, session-authenticated) -------------------------------
  let lastEventId = null;
  let retryDelay = 1000;

  function connect() {
    if (!body.dataset.streaming || !("WebSocket" in window)) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let url = `${scheme}://${location.host}${body.dataset.streaming}`;
    if (lastEventId) url += `&last_event_id=${encodeURIComponent(lastEventId)}`;
    const socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      retryDelay = 1000;
      body.dataset.live = "connected"; // tests and styles can tell the stream is up
    });
    socket.addEventListener("message", (message) => {
      let envelope, payload;
      try {
        envelope = JSON.parse(message.data);
        payload = JSON.parse(envelope.payload);
      } catch (error) {
        return; // not an event (an error frame): nothing to show
      }
      if (envelope.event === "notification") {
        lastEventId = maxId(lastEventId, payload.id);
        htmx.trigger(body, "notifications-changed");
      } else if (envelope.event === "update") {
        lastEventId = maxId(lastEventId, payload.id);
        onUpdate(payload);
      } else if (envelope.event === "delete") {
        const gone = document.getElementById(`post-${payload}`);
        if (gone) gone.remove();
      }
    });
    socket.addEventListener("close", (event) => {
      body.dataset.live = "disconnected";
      if (event.code === 4001 || event.code === 4003) return; // logged out or refused: retrying won't help
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  function maxId(current, candidate) {
    if (!candidate) return current;
    return !current || Number(candidate) > Number(current) ? String(candidate) : current;
  }

  // --- Wiring -----------------------------------------------------------------------------
  document.addEventListener("htmx:load", (event) => initCounters(event.detail.elt));
  document.addEventListener("htmx:afterSwap", () => {
    const timeline = feed();
    if (timeline) removeDuplicates(timeline);
  });
  document.addEventListener("htmx:oobAfterSwap", () => {
    const timeline = feed();
    if (timeline) removeDuplicates(timeline);
  });
  initCounters(document);
  connect();
})();
