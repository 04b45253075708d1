"""The headers every server-rendered page is sent with (kept apart from the template
machinery, so the JSON edge can name them without loading Jinja)."""

# The survey page hashes its one inline script into this CSP.
HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no token in a Referer to other sites; our own forms keep their Origin
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}
