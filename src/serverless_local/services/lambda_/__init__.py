"""Lambda: functions in execution environments of their own, invocations, event sources."""
