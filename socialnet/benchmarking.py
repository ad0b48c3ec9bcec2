"""What every benchmark command shares: sampling, percentiles and the one-line report.

docs: /work/shared/benchmarks.md. A figure is printed beside a baseline measured in the
same run, because on shared machines only the ratio travels; each line names the value,
its unit, the baseline, the ratio (value / baseline), the target with met/MISSED, and how
many samples it came from. Benchmarks print; they never assert timings.
"""

import math
import operator
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

_COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_SYMBOLS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: the smallest sample at or above q % of them.

    Nearest rank rather than interpolation, so a p99 is always a latency that really
    happened (of 1,000 samples, the 990th smallest).
    """
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is not in (0, 100]")
    ordered = sorted(samples)
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]


def time_calls_ms(call: Callable[[int], object], count: int, *, before: Callable[[int], object] | None = None):
    """Milliseconds each of `count` calls `call(i)` took; `before(i)` runs untimed first."""
    durations = []
    for i in range(count):
        if before is not None:
            before(i)
        started = time.perf_counter()
        call(i)
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def interleaved_latencies_ms(
    calls: dict[str, Callable[[int], object]],
    count: int,
    *,
    warmup: int = 0,
    before: Callable[[int], object] | None = None,
) -> dict[str, list[float]]:
    """Milliseconds per call of each series, the series taking turns call by call.

    Round i runs `before(i)` untimed, then each call(i) in order, timed. Taking turns
    spreads the machine's noise evenly over a figure and its baseline, where measuring
    one series after the other lets a burst of load land on one of them only. The first
    `warmup` rounds are not recorded.
    """
    durations: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(warmup + count):
        if before is not None:
            before(i)
        for name, call in calls.items():
            started = time.perf_counter()
            call(i)
            if i >= warmup:
                durations[name].append((time.perf_counter() - started) * 1000)
    return durations


@dataclass(frozen=True)
class Baseline:
    name: str
    value: float
    unit: str


@dataclass(frozen=True)
class Target:
    """A goal for a figure's value (`of="value"`) or for its ratio to the baseline (`of="ratio"`)."""

    comparison: str  # one of "<", "<=", ">", ">="
    limit: float
    of: str = "value"

    def __post_init__(self):
        if self.comparison not in _COMPARISONS or self.of not in ("value", "ratio"):
            raise ValueError(f"bad target {self.comparison!r} {self.limit} of {self.of!r}")

    def is_met(self, figure: "Figure") -> bool:
        measured = figure.value if self.of == "value" else figure.ratio
        return measured is not None and _COMPARISONS[self.comparison](measured, self.limit)

    def describe(self, unit: str) -> str:
        if self.of == "ratio":
            return f"ratio {_SYMBOLS[self.comparison]} {self.limit:,g}x"
        return f"{_SYMBOLS[self.comparison]} {self.limit:,g} {unit}"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    samples: int
    baseline: Baseline | None = None
    target: Target | None = None

    def __post_init__(self):
        if self.baseline is not None and self.baseline.unit != self.unit:
            raise ValueError(f"{self.name}: a ratio of {self.unit} to {self.baseline.unit} means nothing")

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline.value == 0:
            return None
        return self.value / self.baseline.value

    @property
    def verdict(self) -> str | None:
        if self.target is None:
            return None
        return "met" if self.target.is_met(self) else "MISSED"


def latency_figures(
    name: str,
    durations_ms: Sequence[float],
    *,
    baselines: dict[str, Baseline] | None = None,
    targets: dict[str, Target] | None = None,
) -> list[Figure]:
    """The p50 and p99 figures of one latency series; baselines/targets keyed by "p50"/"p99"."""
    baselines, targets = baselines or {}, targets or {}
    return [
        Figure(
            f"{name} {label}",
            percentile(durations_ms, q),
            "ms",
            len(durations_ms),
            baseline=baselines.get(label),
            target=targets.get(label),
        )
        for label, q in (("p50", 50), ("p99", 99))
    ]


def as_baseline(figure: Figure) -> Baseline:
    return Baseline(figure.name, figure.value, figure.unit)


def format_value(value: float) -> str:
    """Three significant figures or so, with thousands separators: 0.412, 13.7, 291, 1,590,000."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_figure(figure: Figure, name_width: int = 44) -> str:
    """One line: name, value and unit, baseline, ratio, target and verdict, samples."""
    value = f"{format_value(figure.value):>9} {figure.unit:<4}"
    if figure.baseline is None:
        baseline, ratio = "baseline —", "ratio —"
    else:
        baseline = f"baseline {figure.baseline.name} = {format_value(figure.baseline.value)} {figure.baseline.unit}"
        ratio = f"ratio {format_value(figure.ratio)}x" if figure.ratio is not None else "ratio —"
    target = "target —" if figure.target is None else f"target {figure.target.describe(figure.unit)}: {figure.verdict}"
    return f"{figure.name:<{name_width}} {value} | {baseline} | {ratio} | {target} | samples {figure.samples:,}"


def machine_line() -> str:
    import os

    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def summary_block(title: str, context: Iterable[str], figures: Sequence[Figure], notes: Iterable[str] = ()) -> str:
    """The block to paste, unedited, into the closing note of the issue that asked for it."""
    width = max((len(figure.name) for figure in figures), default=10)
    verdicts = [figure.verdict for figure in figures if figure.verdict is not None]
    missed = verdicts.count("MISSED")
    lines = [
        "```",
        f"{title} — {machine_line()}",
        *context,
        "",
        *(format_figure(figure, width) for figure in figures),
        *notes,
        "",
        f"targets: {verdicts.count('met')} met, {missed} MISSED" if verdicts else "targets: none set",
        "```",
    ]
    return "\n".join(lines)
