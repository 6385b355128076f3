"""The voice side of antrian: clip cache, announcement audio, the speaker node.

Calls are joined from short pre-rendered clips (see `hub.announce` for which clips, in which
order), so a call plays offline and at once; online voices are used only to *build* the cache.
"""
