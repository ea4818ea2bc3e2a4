"""Browser tests: the web page in headless Chromium against the local stack."""
