"""Signal processing on decoded audio: loudness, voice activity, windows, acoustic descriptors."""
