"""The `moderators` group, with exactly what moderating from the admin needs.

Viewing accounts, reports, posts and the moderation log, plus the four moderation
permissions (checked again by accounts.moderation). Nothing else: no adding, changing or
deleting accounts (so no way to touch is_staff, is_superuser, groups or passwords), no
editing posts or reports by hand, no groups or permissions.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "moderators"
PERMISSIONS = (
    ("accounts", "view_user"),
    ("accounts", "view_report"),
    ("accounts", "view_moderationaction"),
    ("posts", "view_post"),
    ("accounts", "hide_post"),
    ("accounts", "suspend_user"),
    ("accounts", "silence_user"),
    ("accounts", "resolve_report"),
)


def create_moderators_group(apps, schema_editor):
    # On a fresh database the permission rows are only created by post_migrate, after
    # every migration has run: create them now (create_permissions is idempotent).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = [
        Permission.objects.using(schema_editor.connection.alias).get(content_type__app_label=app, codename=codename)
        for app, codename in PERMISSIONS
    ]
    group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=GROUP)
    group.permissions.set(wanted)


def delete_moderators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_moderation"),
        ("posts", "0002_vip_and_fan_out_marks"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_moderators_group, delete_moderators_group)]
