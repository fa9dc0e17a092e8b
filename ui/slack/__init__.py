"""The Slack bot (`policy-assistant slack`): `app.create_app`, `app.add_parser`, `app.run`; Block Kit in `blocks`."""
