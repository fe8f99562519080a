"""Testing support: the pytest plugin (``edgekv.testing.plugin``). Nothing else imports it."""
