"""Training, evaluating and activating models from the admin pages (issue 8).

One job per module: `models` (the job and registry tables), `plan` (which training path
a change needs), `progress` (reading Rasa's training output), `evaluation` (the held-out
referral set and the scores), `registry` (every model and its activation), `runner` (the
background job, one at a time). `rasa_evaluate` runs inside Rasa's environment.
"""
