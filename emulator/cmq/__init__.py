"""TDMQ for CMQ: the queue broker shared by both wire formats, and the API 2.0 data plane."""
