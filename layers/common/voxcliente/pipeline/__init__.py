"""Steps of the flows, kept out of them because more than one flow runs them (the
reconciler re-runs Submit's and EmailEvents' steps) or because they are a whole
of their own: intake (an object to a submitted meeting) and addressing (who gets
the acta), transcripts, writing the acta, delivery (one email per meeting and
kind), ses_events, lifecycle (fail + notify) and costs."""
