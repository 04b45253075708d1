"""The store owner's console: set up webhooks, change settings, preview and test messages,
keep product tips, watch the schedule.  Server-rendered pages signed in with the store's API
key (the support session's cookie and CSRF design, with the ``api`` role), served by the API's
own Lambda; it calls the same functions as the JSON API, so both keep the same rules."""
