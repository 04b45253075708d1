"""Jobs: what is due when (follow-up plans) and the dispatcher that hands due jobs to the queue."""
