"""The simulated voice side: phone numbers, calls, TwiML, ``<Enqueue>`` and ``dequeue``.

What TaskRouter's quickstart part 3 touches, offline: a caller dials the account's number, the
sandbox POSTs Twilio's voice webhook (signed) to the number's ``voice_url``, executes the TwiML
the learner's app returns, and ``<Enqueue workflowSid>`` creates a task; a ``dequeue``
instruction rings the worker and bridges the caller once she answers.

* ``numbers`` — each account's phone number (``IncomingPhoneNumbers``) and how simulated
  phones answer (``POST /_sandbox/phones``);
* ``calls`` — the life of a call on the sandbox clock (ringing, answered, bridged, ended),
  worker legs for ``dequeue``/``call``/``conference``, caller hang-up cancelling the task;
* ``twiml`` — parsing TwiML into verbs, with Twilio's debugger codes (12100, 12200);
* ``webhooks`` — the voice webhook's parameters and its signed request;
* ``runner`` — executes TwiML for a caller (HTTP outside the store lock);
* ``resources`` — ``/2010-04-01/Accounts/{AccountSid}/Calls`` and ``IncomingPhoneNumbers`` in
  Twilio's wire format (``spec/twilio_api_v2010_calls_numbers.json``).

The core is reached at documented points only: ``core.tasks.create_task`` (what
``<Enqueue>`` creates), ``Engine.cancel`` (caller hang-up) and ``Engine.accept`` (the worker
answers a ``dequeue``); ``core.instructions.execute`` calls :func:`calls.place_leg` for the
voice instructions, and this package's timers (answer, ring timeout) are kinds it registers on
the core's schedule (``core.timers.Timers.register``), fired by ``Engine.fire_due``.
"""
