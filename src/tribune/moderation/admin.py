from django.contrib import admin

from tribune.moderation.models import Rule


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["position", "text"]
    ordering = ["position"]
