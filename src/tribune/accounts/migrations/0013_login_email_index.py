"""An index on the logins' addresses without case, LOWER(email), which
``accounts.selectors.logins_with_email`` probes: every sign-up asks whether its
address is taken, and without it that read every login (``auth_user`` is Django's
table, so the index is written out: both databases take this statement)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_remote_image_urls"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunSQL(
            'CREATE INDEX "auth_user_email_lower" ON "auth_user" (LOWER("email"))',
            reverse_sql='DROP INDEX "auth_user_email_lower"',
        ),
    ]
