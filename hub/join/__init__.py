"""Taking a ticket from one's phone (ambil antrean dari HP): the page `/ambil` and its limits.

`extension` is the part: what may be taken (services, estimates), who holds a phone (a code
sent by SMS/WhatsApp, `codes`, or a token kept on the phone), and the ticket itself, taken
through the core like a kiosk's (`take_ticket` by the actor `phone:<holder>`: the queue keeps
one active ticket per phone and the `[join] share`, `antrian.queue`). `web` is the page, its
API and what makes it installable on a phone. docs/ambil-dari-hp.md tells the office.
"""
