"""The hub's web pages: waiting-room screen, ticket status, kiosk, officer call pad, admin.

They run in the hub's own process (`antrian.web.server.start`) and act only through
`HubCore.handle`, exactly like an MQTT client, so the queue rules, the audit log and the
published state are the same whichever way a command arrives. Everything the pages need
(scripts, styles, charts, QR codes) is served by the hub itself: an office LAN has no internet.
"""
