"""What the gateway's web-facing parts share: typed app keys, security headers and origin
checks, static pages, and the JSON WebSocket base."""
