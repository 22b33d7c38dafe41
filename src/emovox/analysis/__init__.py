"""Analysis: tell the medium, run the recognizers, fuse; timelines, live streams, transcripts."""
