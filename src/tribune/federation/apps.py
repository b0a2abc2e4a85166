from django.apps import AppConfig


def _mention_resolve(handle: str):
    """The account of the remote ``handle`` (``user@domain``), looked up by
    WebFinger when unknown; None when it cannot be had."""
    from tribune.core.errors import DomainError
    from tribune.federation.webfinger import account_resolve

    try:
        return account_resolve(acct=handle)
    except DomainError:
        return None


class FederationConfig(AppConfig):
    name = "tribune.federation"
    label = "federation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tribune.statuses import services

        # Mentions of accounts of other servers are looked up when a post is
        # written (statuses.services._mentioned).
        services.remote_mention_resolver = _mention_resolve
