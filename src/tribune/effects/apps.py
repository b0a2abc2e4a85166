from django.apps import AppConfig


class EffectsConfig(AppConfig):
    name = "tribune.effects"
    label = "effects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tribune.core.events import set_dispatcher
        from tribune.effects import dispatch

        set_dispatcher(dispatch)
