"""The gateway: the only public face of the product (website widget, advisor console, REST)."""
