"""Booking a time for another day (reservasi): slots, the booking table, the page, check-in.

`slots` cuts an open day into slots; `store` keeps the bookings in the office's database;
`extension` is the part (booking, cancelling, turning a code into a ticket at check-in);
`web` is the citizen's page `/reservasi` and its API. docs/reservasi.md tells the office.
"""
