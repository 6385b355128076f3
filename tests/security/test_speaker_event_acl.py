"""Only a speaker may report on its `device/{id}/event` (a call it played or could not play):
the ACL `antrian devices` writes lets the speaker's own account publish there, and no other
device, not even on its own subtree, so nobody can make a board flash with a forged report."""

from __future__ import annotations

import shutil

from secure_broker import BASE, Client, generated_broker, office_folder, public_tmpdir, secret


def test_a_speaker_may_report_on_its_event_topic_and_no_other_device_may(tmp_path):
    root = public_tmpdir()
    folder = office_folder(root / "broker", tls=False)
    speaker = folder.add("speaker-1", "speaker")
    pad = folder.add("pad-1", "call_pad", [], 1)
    folder.write()
    broker = generated_broker(folder, root / "run")
    observer = Client(broker.port, "homeassistant", secret(folder, "homeassistant.json")["password"])
    try:
        observer.subscribe(f"{BASE}/device/+/event")
        forger = Client(broker.port, "pad-1", pad, client_id="pad-1")
        missed = {"event_type": "call_missed", "id": "call-1", "ticket": "A-001", "counter": 1}
        forger.publish(f"{BASE}/device/pad-1/event", missed)  # its own subtree, not its topic
        forger.publish(f"{BASE}/device/speaker-1/event", missed)  # another device's
        forger.close()
        node = Client(broker.port, "speaker-1", speaker, client_id="speaker-1")
        node.publish(f"{BASE}/device/speaker-1/event", {**missed, "id": "call-2"})
        node.close()
        got = observer.wait_for(f"{BASE}/device/speaker-1/event")
        # QoS 1 in order per client, and the speaker published last: the pad's never came
        assert [(t, p) for t, p, _ in observer.messages if t.endswith("/event")] == [
            (f"{BASE}/device/speaker-1/event", got)
        ]
        assert b'"call-2"' in got
    finally:
        observer.close()
        broker.close()
        shutil.rmtree(root, ignore_errors=True)
