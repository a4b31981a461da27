"""Funnel definitions that exercise every mode and option of docs/funnels.md sections 2-4
(strict, any_order, optional stages, max_gap, exclusions, last-touch and stage attribution,
intent overrides), appended to the repository's funnels by the end-to-end and Spark tests."""

EVERY_MODE_FUNNELS = """
  - id: strict_steps
    version: 1
    label: Strict sequence (first visits only)
    kind: micro
    mode: strict
    window: 1d
    stages:
      - name: hook
        events: [session_start]
      - name: landing
        events: [first_visit]
      - name: action
        events: [click, quiz_answer, scroll, select_content, video_start]
      - name: engaged
        optional: true
        events: [user_engagement, video_progress]
      - name: conversion
        events: [view_item_list, view_item, generate_lead, purchase]
    exclusions:
      - name: wishlisted
        events: [add_to_wishlist]
        between: [action, conversion]

  - id: any_order_mix
    version: 3
    label: Any order
    kind: micro
    mode: any_order
    window: 3d
    attribution: last_touch
    stages:
      - name: hook
        events: [session_start]
      - name: quiz
        optional: true
        events: [quiz_answer]
      - name: video
        events: [video_progress, video_start, scroll]
      - name: browse
        optional: true
        events: [view_item, view_item_list, user_engagement]
      - name: conversion
        events: [purchase, sign_up, generate_lead, begin_checkout]
    exclusions:
      - name: paid
        events: [add_payment_info]
        between: [hook, conversion]
      - name: clicked
        events: [{name: click, where: [{field: engagement_time_ms, op: gte, value: 3000}]}]
        between: [video, conversion]
    intent:
      mid_from_stage: video
      late_from_stage: browse
      campaigns:
        late: [spring_quiz_micro]
        early: ['21543870014']

  - id: gaps_optional
    version: 1
    label: Gaps and optional stages
    kind: direct
    mode: ordered
    window: 2d
    attribution: {stage: first_action}
    stages:
      - name: hook
        events: [page_view, session_start]
      - name: first_action
        events: [click, quiz_answer, scroll, first_visit]
        max_gap: 30m
      - name: engagement
        optional: true
        events:
          - video_complete
          - {name: user_engagement, where: [{field: engagement_time_ms, op: gte, value: 10000}]}
      - name: deep
        optional: true
        max_gap: 1h
        events: [video_progress, view_item]
      - name: reinforcement
        events: [view_item_list, add_to_wishlist, user_engagement, page_view]
        max_gap: 2h
      - name: conversion
        events: [purchase, sign_up, generate_lead, begin_checkout]
        max_gap: 1d
    exclusions:
      - name: checkout_first
        events: [add_payment_info]
        between: [first_action, conversion]
      - name: scrolled
        events: [scroll]
        where: [{field: platform, op: not_null}]
        between: [hook, first_action]
    intent:
      mid_from_stage: first_action
      late_from_stage: reinforcement
"""
