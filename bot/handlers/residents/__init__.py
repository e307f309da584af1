"""Residents and their data: who follows the account (rules), their own cases (cases), ข้อมูลของฉัน and its requests
(mydata), erasure and retention."""
