"""The sample third party: a small web app that uses only the SDK
(:mod:`gbconnect.client`) plus Starlette, Jinja2 and uvicorn. "Connect your utility",
the OAuth round trip, a notification endpoint and a usage page with insights
(issue 13; docs/sample-thirdparty.md). It never touches the server's database.

:func:`gbconnect.sample_thirdparty.views.make_app` builds the ASGI app from a
:class:`gbconnect.sample_thirdparty.config.SampleConfig`."""
