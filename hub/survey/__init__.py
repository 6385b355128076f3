"""The satisfaction survey (SKM) and its index (IKM), PermenPANRB 14/2017.

`ikm` is the arithmetic and the recap table (also for the monthly report), `store` the
anonymous answers in the hub's database, `extension` the part that takes them (the exit
tablet's `/survey` page and the citizen's status page) and `web` its routes.
"""
