"""The use cases: each action on a subject has one home here, whatever the channel — the REST API, the citizen and
enterprise pages, the officer's window and the CLI all call these, and only these write an application.

No Flask here (DESIGN §2): a use case takes the services (notifier.services.Services, or an in-memory fake in the unit
tests), the actor (citizen, business, officer, department system: a profiles.models.Actor), the subject (SubjectRef)
and plain values, and returns domain objects or raises domain errors (profiles.errors) that each channel renders its
own way. Adding an action: a function here with its unit test against the fakes (tests/unit/test_usecases.py), then
each channel's handler parses its input, calls it and renders the answer.
"""
