"""A fake `network` for the unix port: a station interface the test switches on and off.

It behaves like the ESP32 driver where it matters: after one `connect()` the driver keeps
(re)connecting by itself, and a `connect()` while it is doing so raises
`OSError("Wifi Internal Error")`. The access point is up unless the test says otherwise
(config `fake.wifi` = "down" at boot; stdin `wifi up|down` later). Each `connect()` call is
recorded (`wlan_connect`), so a test sees how the firmware joins.
"""

STA_IF = 0
AP_IF = 1
AUTH_OPEN = 0
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201

#: Is the access point there? Set by the fake board from the config and stdin.
ap = {"up": True}
#: What a scan finds: (ssid, bssid, channel, rssi, security, hidden), as the ESP32 driver
#: returns it; one neighbour gave its network a name that is also HTML.
AROUND = [
    (b"kantor-kecamatan", b"\x00" * 6, 6, -58, 3, False),
    (b"<b>warung</b>", b"\x01" * 6, 11, -80, 3, False),
    (b"kantor-kecamatan", b"\x02" * 6, 1, -70, 3, False),
]
#: Every station interface made, so the test can make the driver give up (`wifi giveup`).
stations = []


def _emit(ev, **kw):
    from fakes import emit

    emit(ev, **kw)


def hostname(name=None):
    return name


class WLAN:
    def __init__(self, interface=STA_IF):
        self.interface = interface
        self.on = False
        self.joining = False  # connect() was called: the driver keeps trying
        stations.append(self)

    def active(self, on=None):
        if on is not None:
            self.on = bool(on)
        return self.on

    def connect(self, ssid="", password=""):
        _emit("wlan_connect", ssid=ssid, refused=self.joining)
        if self.joining and not self.isconnected():
            raise OSError("Wifi Internal Error")
        self.joining = True

    def isconnected(self):
        return self.on and self.joining and ap["up"]

    def status(self, param=None):
        if param == "rssi":
            return -61
        if self.isconnected():
            return STAT_GOT_IP
        return STAT_CONNECTING if self.joining else STAT_IDLE

    def config(self, **kw):
        """The access point's settings (the setup network), recorded."""
        _emit("wlan_ap", essid=kw.get("essid"), authmode=kw.get("authmode"), on=self.on)

    def scan(self):
        return list(AROUND)
