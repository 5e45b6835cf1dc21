"""SmartCopy: copy trading on USDT-margined perpetuals, with a local engine and store."""

__version__ = "0.1.0"
