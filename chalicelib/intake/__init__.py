"""Order intake: Shopify, WooCommerce and generic signed webhooks normalised into one
:class:`~chalicelib.core.models.OrderEvent`, written in one transaction (see ``service``)."""
