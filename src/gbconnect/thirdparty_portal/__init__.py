"""The third-party portal (``/thirdparty``): a company signs up, registers its
applications, passes the connectivity test and watches its production (REQ.21
ApplicationInformation, FB_3/FB_36; STANDARD.md sections 4 and 7).

Modules: :mod:`.models` (company, company_user), :mod:`.accounts` (sign-up, the
confirmation link, passwords), :mod:`.forms` (the application form),
:mod:`.connectivity` (PG&E's connectivity test), :mod:`.production` (authorizations
by pseudonym, the delivery log), :mod:`.usage` (API usage against the limits), the
pages in :mod:`.views` (sign-up and sign-in) and :mod:`.applications`, gathered by
:func:`.routes.build_router`.
"""
