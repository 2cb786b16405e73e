"""The Guard: (cascade) → draft → (screen) → critique → revise or refuse, over a batch of conversations.

A Guard is itself a ChatModel (``spec`` + ``generate``), so anything that evaluates a model (the
Asclepius runner, the CLI) can evaluate a guarded one unchanged; ``respond`` additionally returns the
oversight record that the server exposes and audits. Every step runs as one batch call per model, so a
local model keeps its batching speed-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from conscience.constitution import Constitution, load_constitution
from conscience.guard.critic import critique, revision_prompt
from conscience.guard.policy import GuardPolicy
from conscience.guard.records import GuardedReply, Oversight, ScreenResult
from conscience.guard.refusal import looks_like_refusal, refusal_with_alternative, self_harm_suspected
from conscience.models.protocol import ChatModel, Completion, GenerationParams, Message

if TYPE_CHECKING:  # the cascade loads torch and its classifiers: only when the policy asks for it
    from conscience.guard.cascade import Cascade


def with_system(conversation: list[Message], system: str) -> list[Message]:
    """The conversation with ``system`` as its system prompt (before any system prompt it already had)."""
    if conversation and conversation[0]["role"] == "system":
        return [{"role": "system", "content": f"{system}\n\n{conversation[0]['content']}"}, *conversation[1:]]
    return [{"role": "system", "content": system}, *conversation]


class Screen(Protocol):
    """Cheap risk assessment of (conversation, draft) pairs; decides whether the LLM critique runs."""

    def assess(self, conversations: list[list[Message]], drafts: list[str], threshold: float) -> list[ScreenResult]: ...


class Guard:
    """Constitutional oversight around a drafter model.

    ``critic`` and ``reviser`` default to the drafter (one loaded model serves all roles); ``screen``
    is required only for the ``gated`` policy and defaults to :class:`conscience.guard.screen.RiskScreen`;
    ``cascade`` only for the ``cascade`` policy, defaulting to the shipped classifiers.
    """

    def __init__(self, constitution: Constitution | None, drafter: ChatModel, critic: ChatModel | None = None,
                 reviser: ChatModel | None = None, policy: GuardPolicy | None = None, screen: Screen | None = None,
                 cascade: Cascade | None = None):
        self.policy = policy or GuardPolicy()
        self.constitution = constitution or load_constitution()
        self.drafter = drafter
        self.critic = critic or drafter
        self.reviser = reviser or drafter
        if screen is None and self.policy.critique == "gated":
            from conscience.guard.screen import RiskScreen

            screen = RiskScreen.load()
        if cascade is None and self.policy.critique == "cascade":
            from conscience.guard.cascade import Cascade

            cascade = Cascade.load()
        self.screen = screen
        self.cascade = cascade
        self.spec = self._spec()

    def _spec(self) -> str:
        if self.policy.critique == "never":
            return self.drafter.spec
        parts = [f"critic={self.critic.spec}", f"policy={self.policy.describe()}"]
        if self.reviser is not self.drafter:
            parts.insert(1, f"reviser={self.reviser.spec}")
        return f"guard:{self.drafter.spec}[{','.join(parts)}]"

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        """The ChatModel protocol: the guarded replies, with the oversight record in ``extra["conscience"]``."""
        return [
            Completion(text=r.text, finish_reason=r.finish_reason, prompt_tokens=r.prompt_tokens,
                       completion_tokens=r.completion_tokens, extra={"conscience": r.oversight.model_dump(mode="json")})
            for r in self.respond(conversations, params)
        ]

    def respond(self, conversations: list[list[Message]], params: GenerationParams) -> list[GuardedReply]:
        """Guard every conversation; one batch call per model per step."""
        if not conversations:
            return []
        if self.policy.critique == "cascade":
            return self._respond_cascade(conversations, params)
        drafts = self.drafter.generate(conversations, params)
        replies = [
            GuardedReply(text=d.text, finish_reason=d.finish_reason, prompt_tokens=d.prompt_tokens,
                         completion_tokens=d.completion_tokens, draft=d.text, oversight=Oversight(policy=self.policy.describe()))
            for d in drafts
        ]
        if self.policy.critique == "never":
            return replies
        if self.policy.critique == "gated":
            assert self.screen is not None
            screens = self.screen.assess(conversations, [d.text for d in drafts], self.policy.screen_threshold)
            for reply, screen in zip(replies, screens):
                reply.oversight.screen = screen
            pending = [i for i, s in enumerate(screens) if s.risky]
            if self.policy.refuse_on_screen:
                for i in pending:
                    self._refuse(replies[i], conversations[i])
                return replies
        else:
            pending = list(range(len(conversations)))
        self._oversee(conversations, replies, pending, params)
        return replies

    def _respond_cascade(self, conversations: list[list[Message]], params: GenerationParams) -> list[GuardedReply]:
        """Input classifier first (a clear block is never drafted), then the output classifier on the drafts of
        uncertain requests; only what it flags costs more than the draft."""
        assert self.cascade is not None
        thresholds = self.policy.cascade
        routes = self.cascade.route(conversations, thresholds)
        drafted = [i for i, r in enumerate(routes) if r.route != "block"]
        replies: list[GuardedReply | None] = [None] * len(conversations)
        for i, d in zip(drafted, self.drafter.generate([conversations[i] for i in drafted], params) if drafted else []):
            replies[i] = GuardedReply(text=d.text, finish_reason=d.finish_reason, prompt_tokens=d.prompt_tokens,
                                      completion_tokens=d.completion_tokens, draft=d.text,
                                      oversight=Oversight(policy=self.policy.describe(), screen=routes[i]))
        if thresholds.redraft_refusals:
            self._redraft_refusals(conversations, replies, [i for i in drafted if routes[i].route == "pass"], params)  # type: ignore[arg-type]
        uncertain = [i for i in drafted if routes[i].route == "uncertain"]
        escalated = []
        for i, p_unsafe in zip(uncertain, self.cascade.check_drafts([conversations[i] for i in uncertain],
                                                                    [replies[i].text for i in uncertain])):  # type: ignore[union-attr]
            screen = routes[i]
            screen.signals["output_unsafe"] = round(p_unsafe, 4)
            if p_unsafe >= thresholds.output_above:
                screen.reasons.append(f"output P(unsafe) {p_unsafe:.2f} >= {thresholds.output_above}")
                escalated.append(i)
        if thresholds.redraft_uncertain:
            served = [i for i in uncertain if i not in escalated
                      and (thresholds.redraft_uncertain is True or routes[i].pass_likely)]
            self._redraft_uncertain(conversations, replies, served, params)  # type: ignore[arg-type]
        use_critic = thresholds.escalate == "critic" or (thresholds.escalate == "auto" and self.critic is not self.drafter)
        to_refuse = [i for i, r in enumerate(routes) if r.route == "block"] + ([] if use_critic else escalated)
        alternatives = self.cascade.safer_alternatives([conversations[i] for i in to_refuse])
        for i, alternative in zip(to_refuse, alternatives):
            if replies[i] is None:
                replies[i] = GuardedReply(text="", oversight=Oversight(policy=self.policy.describe(), screen=routes[i]))
            self._refuse(replies[i], conversations[i], alternative)  # type: ignore[arg-type]
        if use_critic and escalated:
            self._oversee(conversations, replies, escalated, params)  # type: ignore[arg-type]
        return replies  # type: ignore[return-value]

    def _redraft_refusals(self, conversations: list[list[Message]], replies: list[GuardedReply], passed: list[int],
                          params: GenerationParams) -> None:
        """Draft again, under the ``calibrated_refusal`` principle, the clear passes whose draft declined; serve the
        new draft where it answers (one batch call, only for the drafts that declined)."""
        self._redraft(conversations, replies, passed, params, check_output=False,
                      instruction="This question is a benign health question: answer it helpfully, and say when to see a clinician.")

    def _redraft_uncertain(self, conversations: list[list[Message]], replies: list[GuardedReply], served: list[int],
                           params: GenerationParams) -> None:
        """Draft again, under ``calibrated_refusal``, the uncertain requests whose draft declined although the
        output classifier let it through; serve the new draft only where it answers and the output classifier lets
        it through too (the request was not judged benign, so the second draft is checked like the first)."""
        self._redraft(conversations, replies, served, params, check_output=True,
                      instruction="Answer the part of the question that can safely be answered, and say when to see a clinician.")

    def _redraft(self, conversations: list[list[Message]], replies: list[GuardedReply], indices: list[int],
                 params: GenerationParams, instruction: str, check_output: bool) -> None:
        declined = [i for i in indices if looks_like_refusal(replies[i].text)]
        if not declined:
            return
        principle = self.constitution.principle("calibrated_refusal")
        system = "You are a clinical information assistant. " + principle.text.strip() + " " + instruction
        completions = self.drafter.generate([with_system(conversations[i], system) for i in declined], params)
        scores: list[float | None] = [None] * len(declined)
        if check_output:
            assert self.cascade is not None
            scores = list(self.cascade.check_drafts([conversations[i] for i in declined], [c.text for c in completions]))
        for i, completion, p_unsafe in zip(declined, completions, scores):
            reply = replies[i]
            reply.oversight.redrafted = True
            reply.completion_tokens += completion.completion_tokens
            if p_unsafe is not None:
                reply.oversight.screen.signals["redraft_output_unsafe"] = round(p_unsafe, 4)
            answers = completion.text.strip() and not looks_like_refusal(completion.text)
            if answers and (p_unsafe is None or p_unsafe < self.policy.cascade.output_above):
                reply.text, reply.finish_reason = completion.text, completion.finish_reason
                reply.oversight.action = "redrafted"

    def _oversee(self, conversations: list[list[Message]], replies: list[GuardedReply], pending: list[int],
                 params: GenerationParams) -> None:
        """Critique → revise rounds. A revision is critiqued again; still at issue after
        ``max_rounds`` revisions (or at issue under ``on_issue: refuse``) means refusal-with-alternative."""
        revisions = 0
        while pending:
            results = critique(self.critic, self.constitution, [conversations[i] for i in pending],
                               [replies[i].text for i in pending], self.policy.critic_max_tokens)
            to_revise = []
            for i, (verdicts, failed) in zip(pending, results):
                oversight = replies[i].oversight
                oversight.critiqued = True
                oversight.rounds += 1
                oversight.critic_failures += int(failed)
                oversight.verdicts = verdicts
                if not any(v.at_issue for v in verdicts):
                    continue
                if self.policy.on_issue == "refuse" or revisions >= self.policy.max_rounds:
                    self._refuse(replies[i], conversations[i])
                else:
                    to_revise.append(i)
            if to_revise:
                to_revise = self._revise(conversations, replies, to_revise, params)
                revisions += 1
            pending = to_revise

    def _revise(self, conversations: list[list[Message]], replies: list[GuardedReply], indices: list[int],
                params: GenerationParams) -> list[int]:
        """Rewrite the replies at ``indices``; returns those revised (an empty revision is refused instead)."""
        prompts = []
        for i in indices:
            at_issue = replies[i].oversight.principles_at_issue
            principles = [self.constitution.principle(p) for p in at_issue]
            prompts.append(revision_prompt(principles, conversations[i], replies[i].text, replies[i].oversight.verdicts))
        revision_params = params.model_copy(update={"max_new_tokens": self.policy.revision_max_tokens})
        revised = []
        for i, completion in zip(indices, self.reviser.generate(prompts, revision_params)):
            if not completion.text.strip():
                self._refuse(replies[i], conversations[i])
                continue
            revised.append(i)
            reply = replies[i]
            reply.text, reply.finish_reason = completion.text, completion.finish_reason
            reply.completion_tokens += completion.completion_tokens
            reply.oversight.action = "revised"
        return revised

    @staticmethod
    def _refuse(reply: GuardedReply, conversation: list[Message], alternative: str | None = None) -> None:
        reply.text = refusal_with_alternative(conversation, alternative)
        reply.finish_reason = "stop"
        reply.oversight.action = "refused"
        reply.oversight.self_harm_suspected = self_harm_suspected(conversation)
