"""The staff desk (*työpöytä*): server-rendered pages in which the centre's staff do their
daily work, in Finnish, Swedish and English (docs/adr/0045).

The desk holds no client data: every page calls intake, guidance and reporting through
their public HTTP APIs with the signed-in user's own token, so the permission matrix,
the disclosure policy, consent and the access log apply to it as to any other caller."""
