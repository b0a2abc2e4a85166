"""Live updates, the producer side: which stream gets which event
(``keys``) and the one publishing function (``publish.stream_publish``) over Redis
pub/sub or the ``StreamEvent`` table. The consumer, Mastodon's streaming API, is
``tribune.api.streaming`` (docs/adr/0032)."""
