"""The Invoca document's samples, verbatim: the endpoints as printed, then each body as printed.

The printed page hid its e-mail address behind an e-mail obfuscator ("[email protected]", which
is no address); `ADDRESS` is the one the vendor's own pages show there, put in its place.
"""

ADDRESS = "chris@nfltix.com"
OBFUSCATED = "[email\u00a0protected]"  # with a no-break space, as printed

READ_ALL = "https://invoca.net/api/2019-05-01/<network_id>/advertisers/e0Fv6YEk/users.json"
READ_ONE = (
    "https://invoca.net/api/2019-05-01/<network_id>/advertisers/e0Fv6YEk/users/"
    "549494858585Dxlj2uCX0ijqXP4nAW.json"
)
CREATE = "https://invoca.net/api/2019-05-01/<network_id>/advertisers/e0Fv6YEk/users.json"
UPDATE = "https://invoca.net/api/2019-05-01/<network_id>/advertisers/e0Fv6YEk/users/<user_id>"
DELETE = (
    "https://invoca.net/api/2019-05-01/<network_id>/advertisers/e0Fv6YEk/users/"
    "549494858585Dxlj2uCX0ijqXP4nAW.json"
)

READ_ALL_RESPONSE = """[
  {
    "email_settings": [
      { "email_address": "[email protected]", "use_for_notifications": true }
    ],
    "id_from_network": "549494858585Dxlj2uCX0ijqXP4nAW",
    "first_name": "Chris",
    "contact_country_code": "1",
    "last_name": "Dean",
    "role": "Manager",
    "oauth_refresh_token": "556588585858585858585858858",
    "contact_phone_number": "888-603-3760",
    "notify_on_budgets": true,
    "notify_on_campaign_applications": false,
    "notify_on_campaign_expirations": false,
    "notify_on_creative_duplication_requests": true,
    "notify_on_network_announcements": true,
    "notify_on_performance_notifications": false,
    "notify_on_monthly_campaign_performance_reports": true,
    "notify_on_weekly_campaign_performance_reports": false,
    "notify_on_call_activities": true,
    "can_login_via_platform": false
  }
]"""  # noqa: RUF001 (the document's no-break space, verbatim)

READ_ONE_RESPONSE = """{
  "email_settings": [
    { "email_address": "[email protected]", "use_for_notifications": true }
  ],
  "id_from_network": "549494858585Dxlj2uCX0ijqXP4nAW",
  "first_name": "Chris",
  "contact_country_code": "1",
  "last_name": "Dean",
  "role": "Manager",
  "oauth_refresh_token": "556588585858585858585858858",
  "contact_phone_number": "888-603-3760",
  "notify_on_budgets": true,
  "notify_on_campaign_applications": false,
  "notify_on_campaign_expirations": false,
  "notify_on_creative_duplication_requests": true,
  "notify_on_network_announcements": true,
  "notify_on_performance_notifications": false,
  "notify_on_monthly_campaign_performance_reports": true,
  "notify_on_weekly_campaign_performance_reports": false,
  "notify_on_call_activities": true,
  "can_login_via_platform": false
}"""  # noqa: RUF001 (the document's no-break space, verbatim)

CREATE_REQUEST = """{
  "user": {
    "id_from_network": "549494858585Dxlj2uCX0ijqXP4nAW",
    "email_settings": [
      { "email_address": "[email protected]", "use_for_notifications": true }
    ],
    "first_name": "Chris",
    "last_name": "Dean",
    "contact_phone_number": "805-555-5555",
    "oauth_refresh_token": "556588585858585858585858858",
    "role": "Manager",
    "notify_on_budgets": true,
    "notify_on_campaign_applications": false,
    "notify_on_campaign_expirations": false,
    "notify_on_creative_duplication_requests": true,
    "notify_on_network_announcements": true,
    "notify_on_performance_notifications": false,
    "notify_on_monthly_campaign_performance_reports": true,
    "notify_on_weekly_campaign_performance_reports": false,
    "notify_on_call_activities": true
  }
}"""  # noqa: RUF001 (the document's no-break space, verbatim)

UPDATE_REQUEST = """{
  "user": {
    "email_settings": [
      { "email_address": "[email protected]", "use_for_notifications": true }
    ],
    "id_from_network": "549494858585Dxlj2uCX0ijqXP4nAW",
    "first_name": "Chris",
    "contact_country_code": "1",
    "last_name": "Dean",
    "role": "Manager",
    "oauth_refresh_token": "556588585858585858585858858",
    "contact_phone_number": "888-603-3760",
    "notify_on_budgets": true,
    "notify_on_campaign_applications": false,
    "notify_on_campaign_expirations": false,
    "notify_on_creative_duplication_requests": true,
    "notify_on_network_announcements": true,
    "notify_on_performance_notifications": false,
    "notify_on_monthly_campaign_performance_reports": true,
    "notify_on_weekly_campaign_performance_reports": false,
    "notify_on_call_activities": true
  }
}"""  # noqa: RUF001 (the document's no-break space, verbatim)

DELETE_RESPONSE = """{
}"""
