"""The test kit: everything a test needs to run antrian's parts for real.

| module | what it gives |
|---|---|
| `broker` | `Mosquitto`: a real broker on a free port, stoppable and restartable |
| `probe` | `Probe`: the test's MQTT client (wait for, request, retained or live); `mqtt_client` |
| `hubs` | the hub in this process (`InProcessHub`) or as `antrian run` (`HubProcess`, `hub_on_own_broker`) |
| `process` | `ChildProcess` (start, kill -9, stop, log); `antrian_cli`: the command line run to its end |
| `clock` | `Clock`: a time the test moves by hand; `MORNING` |
| `office` | offices as dicts and TOML (`office`, `kiosk`, `call_pad`, `led_board`, `speaker`) |
| `parts` | each MQTT part as the shared scenarios see it (`Part` and one class per part) |
| `scenarios` | the promises every part keeps, run by each part's `test_part_*.py` |
| `traffic` | what each client subscribed, published and was denied, from the broker's own log |

Product code never imports this package; benchmarks (`bench/`) may, as they run from the repo.
"""

from .broker import Mosquitto
from .clock import MORNING, Clock
from .hubs import HubProcess, InProcessHub
from .probe import Probe

__all__ = ["MORNING", "Clock", "HubProcess", "InProcessHub", "Mosquitto", "Probe"]
