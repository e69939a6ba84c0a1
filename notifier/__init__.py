"""notifier: the only package that imports rq and twilio — queues, jobs, the worker, channels, the local Redis."""
