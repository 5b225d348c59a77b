"""EventBridge: buses, rules, schedules (EventBridge Scheduler), input transformers."""
