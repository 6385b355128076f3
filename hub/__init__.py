"""antrian: a digital queue for Indonesian public service offices, over MQTT.

Where things happen (a newcomer's map):

* a ticket is issued, called, transferred ...  -> `antrian.queue` (pure rules, events)
* every change is stored                         -> `antrian.store` (SQLite event log)
* requests are checked and answered              -> `antrian.core` (one request, start to end)
* it is spoken on MQTT                           -> `antrian.service` (aiomqtt) over `antrian.contract`
* a call is announced                            -> `antrian.announce` (words, clips) and `antrian.voice`
* a call is heard in the waiting room            -> `antrian.speaker` (the speaker node, its own part)
* the broker is connected to                     -> `antrian.mqtt` (one client factory and reconnect)
* what goes outward (boards, speakers, HA, web)  -> `antrian.extensions`, each an `antrian.extension`
                                                    listening on `antrian.bus`
* Home Assistant sees it                         -> `antrian.extensions.homeassistant`
* the wait is estimated                          -> `antrian.eta` (the calling rule run forward)
"""

__version__ = "0.1.0"
