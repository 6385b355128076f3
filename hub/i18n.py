"""User-facing text in Bahasa Indonesia (default) and English.

Code raises and logs with message keys; people read the office's language. Keys are stable
(they are sent as `code` in error responses so a device can react without parsing prose).
"""

from __future__ import annotations

from typing import Final

MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # errors returned to devices and clients
    "invalid_request": ("Permintaan tidak sah: {detail}", "Invalid request: {detail}"),
    "unknown_device": ("Perangkat {device} tidak terdaftar", "Device {device} is not registered"),
    "not_allowed": (
        "Perangkat {device} ({role}) tidak boleh menjalankan {command}",
        "Device {device} ({role}) may not run {command}",
    ),
    "unknown_service": ("Layanan {service} tidak ada", "There is no service {service}"),
    "service_not_offered": (
        "Layanan {service} tidak tersedia di perangkat ini",
        "Service {service} is not offered on this device",
    ),
    "service_paused": (
        "Layanan {service} sedang dihentikan sementara",
        "Service {service} is paused",
    ),
    "quota_reached": (
        "Kuota harian layanan {service} ({quota}) sudah habis",
        "The daily quota of service {service} ({quota}) is used up",
    ),
    "not_served_today": (
        "Layanan {service} kemungkinan tidak terlayani lagi hari ini (antrean melewati jam"
        " tutup); silakan datang kembali pada hari kerja berikutnya atau hubungi petugas",
        "Service {service} will likely not be reached again today (the queue runs past"
        " closing); please come back on the next working day or ask an officer",
    ),
    "unknown_counter": ("Loket {counter} tidak ada", "There is no counter {counter}"),
    "counter_not_open": (
        "Loket {counter} sedang {status}",
        "Counter {counter} is {status}",
    ),
    "counter_busy": (
        "Loket {counter} masih melayani {ticket}; selesaikan dulu",
        "Counter {counter} is still serving {ticket}; finish it first",
    ),
    "nothing_serving": (
        "Loket {counter} tidak sedang melayani tiket",
        "Counter {counter} is not serving a ticket",
    ),
    "recall_limit": (
        "{ticket} sudah dipanggil ulang {recalls} kali; tandai terlewat",
        "{ticket} was recalled {recalls} times already; mark it skipped",
    ),
    "unknown_ticket": ("Tiket {ticket} tidak ada hari ini", "No ticket {ticket} today"),
    "ticket_not_waiting": (
        "Tiket {ticket} tidak sedang menunggu ({state})",
        "Ticket {ticket} is not waiting ({state})",
    ),
    "ticket_not_skipped": (
        "Tiket {ticket} tidak berstatus terlewat ({state})",
        "Ticket {ticket} is not skipped ({state})",
    ),
    "same_service": (
        "Tiket {ticket} sudah di layanan {service}",
        "Ticket {ticket} is already in service {service}",
    ),
    "unknown_token": ("Tiket tidak ditemukan atau sudah kedaluwarsa", "Ticket not found or expired"),
    "storage_failed": (
        "Penyimpanan gagal; permintaan tidak diproses: {detail}",
        "Storage failed; the request was not processed: {detail}",
    ),
    "storage_full": (
        "Penyimpanan penuh; permintaan tidak diproses. Kosongkan disk hub lalu coba lagi",
        "Storage is full; the request was not processed. Free disk space on the hub, then retry",
    ),
    "storage_damaged": (
        "Berkas database rusak; permintaan tidak diproses. Jalankan 'antrian log verify'",
        "The database file is damaged; the request was not processed. Run 'antrian log verify'",
    ),
    "internal_error": (
        "Kesalahan internal hub; permintaan tidak diproses (sudah dicatat di log hub)",
        "Internal hub error; the request was not processed (recorded in the hub's log)",
    ),
    "invalid_payload": ("Isi pesan tidak sah: {detail}", "Invalid payload: {detail}"),
    "priority_share_reached": (
        "Antrean prioritas layanan {service} hari ini sudah banyak; ambil antrean biasa dan"
        " sampaikan ke petugas, yang dapat menandainya prioritas",
        "Priority tickets of service {service} are many today; take a regular ticket and tell"
        " the officer, who can mark it priority",
    ),
    "counter_retired": (
        "Loket {counter} tidak ada lagi di konfigurasi",
        "Counter {counter} is no longer configured",
    ),
    "queue_empty": ("Tidak ada antrean", "Nobody is waiting"),
    # what the boards above the counters and the call pads show (one word for both)
    "board.break": ("ISTIRAHAT", "BREAK"),
    "board.closed": ("TUTUP", "CLOSED"),
    "board.until": ("s.d. {until}", "until {until}"),
    # states, as people say them
    "state.open": ("buka", "open"),
    "state.break": ("istirahat", "on a break"),
    "state.closed": ("tutup", "closed"),
    "state.paused": ("dihentikan sementara", "paused"),
    "state.waiting": ("menunggu", "waiting"),
    "state.called": ("dipanggil", "called"),
    "state.done": ("selesai", "done"),
    "state.skipped": ("terlewat", "skipped"),
    "state.expired": ("kedaluwarsa", "expired"),
}


def t(key: str, lang: str = "id", **params: object) -> str:
    """The message `key` in `lang` ("id" or "en") with `params` filled in."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text
