"""Link previews: the preview card of the first link in a post (Mastodon's
PreviewCard, docs: entities/PreviewCard.md), fetched in the background through the
SSRF-safe client (tribune.core.http)."""
