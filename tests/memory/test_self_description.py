"""Which sentences describe the agent itself (an attribute of its process): by who the subject is
and what the predicate says, not by phrases."""

from __future__ import annotations

import pytest

from memory.extraction.self_description import is_self_description

DESCRIBES_THE_AGENT = [
    ("assistant", "I am the billing agent for this account and I handle refunds."),
    ("assistant", "I'm the billing agent for this account."),
    ("assistant", "Hi, I'm Ada, the support assistant."),
    ("assistant", "I am Ada."),
    ("assistant", "I handle refunds and chargebacks for enterprise customers."),
    ("assistant", "I usually cover the EU accounts."),
    ("assistant", "I specialize in tax compliance."),
    ("assistant", "As the billing agent, I review every duplicate charge."),
    ("assistant", "My role is to reconcile invoices."),
    ("assistant", "My name is Ledger."),
    ("assistant", "This agent handles refunds."),
    ("assistant", "I can issue credits up to 500 dollars."),
    ("assistant", "I'll take over the Nordic accounts."),
    ("assistant", "I'm responsible for the EU accounts."),
    ("assistant", "I am not in charge of payouts."),
    ("assistant", "I was built to answer billing questions."),
    ("assistant", "I have admin access to Stripe."),
    ("user", "You are the billing agent for this account."),
    ("user", "Your job is to answer billing questions."),
    ("user", "You handle refunds."),
]

DOES_NOT = [
    ("assistant", "I found a duplicate charge on invoice 1042."),
    ("assistant", "I checked the payment gateway logs."),
    ("assistant", "I have found three duplicate charges."),
    ("assistant", "This agent found three duplicate charges."),
    ("assistant", "I think the gateway timeout is too low."),
    ("assistant", "I recommend refunding the second charge."),
    ("assistant", "I can confirm the refund was issued."),
    ("assistant", "I see two charges of 49 euros."),
    ("assistant", "I'd suggest a refund."),
    ("assistant", "I am looking into the outage."),
    ("assistant", "I am sure the charge was duplicated."),
    ("assistant", "I am a bit worried about the gateway."),
    ("assistant", "I am here."),
    ("assistant", "The customer was charged twice."),
    ("assistant", "We handle refunds within five days."),
    ("assistant", "My findings are below."),
    ("user", "I am the account owner."),
    ("user", "I was charged twice for order 1042."),
    ("user", "You should check the invoice."),
    ("user", "Do you handle refunds?"),
    ("system", "You are the billing agent."),
]


@pytest.mark.parametrize(("role", "sentence"), DESCRIBES_THE_AGENT)
def test_it_recognises_an_agents_description_of_itself(role, sentence):
    assert is_self_description(sentence, role)


@pytest.mark.parametrize(("role", "sentence"), DOES_NOT)
def test_it_leaves_findings_stances_and_other_speakers_alone(role, sentence):
    assert not is_self_description(sentence, role)
