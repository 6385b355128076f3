"""The voice side of antrian: the clip cache and announcement audio, used by the hub (which
builds and serves the clips) and by the speaker node (`antrian.speaker`, which plays them).

Calls are joined from short pre-rendered clips (see `antrian.announce` for which clips, in which
order), so a call plays offline and at once; online voices are used only to *build* the cache.
"""
