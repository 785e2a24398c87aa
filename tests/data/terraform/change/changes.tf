# Additions of the change under review.

# Opens synthetic -> PHI: the synthetic ETL role may read the PHI bucket.
resource "aws_iam_role_policy" "synthetic_phi" {
  name = "read-phi"
  role = aws_iam_role.synthetic_etl.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "ReadPhi", Effect = "Allow", Action = "s3:GetObject", Resource = "${aws_s3_bucket.phi.arn}/*" }]
  })
}

# Network: the app SG may reach the PHI database.
resource "aws_vpc_security_group_ingress_rule" "db_from_app" {
  security_group_id            = aws_security_group.db.id
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_security_group_rule" "app_to_db" {
  type                     = "egress"
  security_group_id        = aws_security_group.app.id
  source_security_group_id = aws_security_group.db.id
  protocol                 = "tcp"
  from_port                = 5432
  to_port                  = 5432
}

# A policy whose document is only known after apply (it names a bucket the plan creates).
resource "aws_s3_bucket" "scratch" {
  bucket_prefix = "synthetic-scratch-"
}

data "aws_iam_policy_document" "scratch" {
  statement {
    sid       = "Scratch"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${aws_s3_bucket.scratch.arn}/*"]
  }
}

resource "aws_iam_role_policy" "synthetic_scratch" {
  name   = "scratch"
  role   = aws_iam_role.synthetic_etl.id
  policy = data.aws_iam_policy_document.scratch.json
}

# A synthetic-data EC2 worker running as the synthetic ETL role.
resource "aws_iam_instance_profile" "synthetic_worker" {
  name = "synthetic-worker"
  role = aws_iam_role.synthetic_etl.name
}

resource "aws_instance" "synthetic_worker" {
  ami                    = "ami-12c6146b"
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.app.id
  vpc_security_group_ids = [aws_security_group.app.id]
  iam_instance_profile   = aws_iam_instance_profile.synthetic_worker.name
  user_data              = "#!/bin/sh\nexport DB_PASSWORD=planted-user-data-secret\n"
  tags = {
    Workload = "synthetic-data"
  }
}

# A manual PHI snapshot shared with another account.
resource "aws_db_snapshot" "phi_manual" {
  db_instance_identifier = aws_db_instance.phi.identifier
  db_snapshot_identifier = "prod-phi-manual"
  shared_accounts        = ["444455556666"]
}

resource "aws_rds_cluster" "analytics" {
  cluster_identifier  = "phi-analytics"
  engine              = "aurora-postgresql"
  master_username     = "analytics"
  master_password     = var.db_password
  skip_final_snapshot = true
  tags = {
    DataClassification = "PHI"
    Environment        = "production"
  }
}

resource "aws_kms_key" "scratch" {
  description = "scratch key"
}

resource "aws_organizations_policy" "deny_leave" {
  name = "deny-leave-org"
  type = "SERVICE_CONTROL_POLICY"
  content = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Deny", Action = "organizations:LeaveOrganization", Resource = "*" }]
  })
}

resource "aws_organizations_policy_attachment" "deny_leave" {
  policy_id = aws_organizations_policy.deny_leave.id
  target_id = "123456789012"
}

resource "aws_iam_user_policy" "analyst" {
  name = "self"
  user = aws_iam_user.analyst.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "iam:GetUser", Resource = aws_iam_user.analyst.arn }]
  })
}

# Not modelled by iamreach: listed as unsupported, never dropped silently.
resource "aws_sns_topic" "alerts" {
  name = "alerts"
}

module "etl" {
  source = "./modules/etl"
  name   = "etl-batch"
}
