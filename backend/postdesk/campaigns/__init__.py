"""Email campaigns: where inbound mail lands, who answers it, when, and with which automation."""
