"""antrian: a digital queue for Indonesian public service offices, over MQTT.

Where things happen (a newcomer's map):

* a ticket is issued, called, transferred ...  -> `hub.queue` (pure rules, events)
* every change is stored                         -> `hub.store` (SQLite event log)
* requests are checked and answered              -> `hub.core` (one request, start to end)
* it is spoken on MQTT                           -> `hub.service` (aiomqtt) over `hub.contract`
* a call is announced                            -> `hub.announce` (words, clips) and `hub.voice`
* a call is heard in the waiting room            -> `hub.speaker` (the speaker node, its own part)
* the broker is connected to                     -> `hub.mqtt` (one client factory and reconnect)
* what goes outward (boards, speakers, HA, web)  -> `hub.extensions`, each an `hub.extension`
                                                    listening on `hub.bus`
* Home Assistant sees it                         -> `hub.extensions.homeassistant`
* the wait is estimated                          -> `hub.eta` (the calling rule run forward)
"""

__version__ = "0.1.0"
