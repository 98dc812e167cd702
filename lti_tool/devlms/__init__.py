"""The practice LMS: a real LTI 1.3 platform served under /dev/lms, for development and tests.

It imports nothing from the rest of lti_tool and talks to the tool only over HTTP, through the
tool's public URLs (TOOL_BASE_URL + /lti/login, /lti/launch, /.well-known/jwks.json), or those a tool
registered by URL (LTI Dynamic Registration: clients.py).

Config read from app.config (defaults when absent):
  TOOL_BASE_URL          http://127.0.0.1:5000
  DEVLMS_BASE_URL        TOOL_BASE_URL + "/dev/lms" (issuer in Moodle mode; base of every LMS URL)
  DEVLMS_DB_PATH         <instance_path>/devlms.sqlite3
  DEVLMS_DEPLOYMENT_ID   "1"

URLs under /dev/lms:
  GET  /                                   course page (mode, login method, storage offer; tool in an iframe)
  GET  /launch?person=&link=&mode=&method=[&storage=][&message=deeplink][&locale=][&client=]   login initiation
                                           form #autosubmit (locale, e.g. es-MX: launch_presentation.locale instead
                                           of the person's; client: a client registered by URL, instead of mode's)
  GET  /register[?tool=<registration URL>&mode=moodle|canvas]   register a tool by URL (LTI Dynamic Registration):
                                           a one-time token, the tool's page in a frame, the registered tools
  GET  /.well-known/openid-configuration[?mode=canvas]   the LMS's configuration (Canvas's needs the token)
  POST /registration                       registration endpoint (Bearer registration token): client id dyn-<hex>
  GET  /api/registrations                  the clients registered by URL, with what each tool sent
  GET, POST /auth                          OIDC authorization endpoint
  GET  /jwks.json                          the LMS's public key
  POST /token                              OAuth2 client_credentials with a JWT client assertion
  GET, POST /courses/<cid>/lineitems       AGS line items (Moodle URLs carry ?type_id=<deployment id>)
  GET, PUT, DELETE /courses/<cid>/lineitems/<id>[/lineitem]
  POST /courses/<cid>/lineitems/<id>[/lineitem]/scores
  GET  /courses/<cid>/lineitems/<id>[/lineitem]/results
  GET  /courses/<cid>/memberships          NRPS (limit/page, Link rel="next")
  POST /deep-link/return                   the tool's deep linking response (form field JWT)
  GET  /gradebook                          HTML gradebook (static/gradebook.js polls the JSON; a reload link without scripts)
  GET, DELETE /api/gradebook               gradebook as JSON / forget results
  GET  /api/scores[?user_id=&status=&lineitem_id=&client_id=&after_id=&limit=]   score posts as received, oldest first
  DELETE /api/course                       back to the built-in course (test isolation)
  GET, DELETE /api/stats                   counters (token ones also per client: tokens_issued:<client id>) / reset
  GET, POST, DELETE /api/faults            fault injection, fail_next, fail_rate, down_seconds, ... (see faults.py;
                                           target "registration" fails the registration endpoint)
  GET  /static/<file>                      the practice LMS's own static files (gradebook.js)

People: the fixed roster (roster.PEOPLE), plus load learners u-load-<n> (n = 1..100000) who can launch and
be graded but are listed neither on the course page nor by NRPS (see roster.py).
  POST /api/tokens/expire                  expire every access token
"""
from __future__ import annotations

from flask import Flask

from .registration import registrations

__all__ = ["init_app", "registrations"]

URL_PREFIX = "/dev/lms"


def init_app(app: Flask) -> None:
    """Serve the practice LMS (blueprint "devlms") under /dev/lms."""
    from .views import bp

    if bp.name not in app.blueprints:
        app.register_blueprint(bp, url_prefix=URL_PREFIX)
