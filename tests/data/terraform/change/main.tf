# Change under review: the baseline with edits (see changes.tf for the additions).
# Edits: SG db opened to the VPC, phi-reader role renamed (replace), lambda tags updated,
# synthetic-read policy + attachment and the PHI bucket's public access block deleted.

# -- network ---------------------------------------------------------------------------
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "app" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
}

resource "aws_security_group" "app" {
  name   = "synthetic-app"
  vpc_id = aws_vpc.main.id
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "db" {
  name   = "phi-db"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16"]
  }
}

# -- synthetic-data workload -------------------------------------------------------------
data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "synthetic_etl" {
  name               = "synthetic-etl"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
  tags = {
    Workload = "synthetic-data"
  }
}

resource "aws_iam_role_policy" "synthetic_logs" {
  name = "logs"
  role = aws_iam_role.synthetic_etl.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "*" }]
  })
}

resource "aws_s3_bucket" "synthetic" {
  bucket = "synthetic-data-bucket"
  tags = {
    Workload = "synthetic-data"
  }
}

resource "aws_lambda_function" "synthetic_etl" {
  function_name = "synthetic-etl"
  role          = aws_iam_role.synthetic_etl.arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "${path.module}/../lambda.zip"
  environment {
    variables = {
      API_TOKEN = "planted-env-secret-value"
    }
  }
  vpc_config {
    subnet_ids         = [aws_subnet.app.id]
    security_group_ids = [aws_security_group.app.id]
  }
  tags = {
    Workload = "synthetic-data"
    Owner    = "data-science"
  }
}

# -- production PHI ------------------------------------------------------------------------
resource "aws_kms_key" "phi" {
  description = "PHI data key"
  tags = {
    DataClassification = "PHI"
    Environment        = "production"
  }
}

resource "aws_s3_bucket" "phi" {
  bucket = "prod-phi-records"
  tags = {
    DataClassification = "PHI"
    Environment        = "production"
  }
}

resource "aws_s3_bucket_policy" "phi" {
  bucket = aws_s3_bucket.phi.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.phi.arn, "${aws_s3_bucket.phi.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

resource "aws_db_instance" "phi" {
  identifier             = "prod-phi-db"
  engine                 = "postgres"
  instance_class         = "db.t3.micro"
  allocated_storage      = 20
  username               = "phiadmin"
  password               = var.db_password
  skip_final_snapshot    = true
  vpc_security_group_ids = [aws_security_group.db.id]
  tags = {
    DataClassification = "PHI"
    Environment        = "production"
  }
}

resource "aws_iam_role" "phi_reader" {
  name = "phi-reader-v2"
  lifecycle {
    create_before_destroy = true
  }
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_instance_profile" "phi_reader" {
  name = "phi-reader"
  role = aws_iam_role.phi_reader.name
}

# -- people ------------------------------------------------------------------------------
resource "aws_iam_user" "analyst" {
  name = "analyst"
}

resource "aws_iam_group" "analysts" {
  name = "analysts"
}

resource "aws_iam_group_policy" "analysts" {
  name  = "read-synthetic"
  group = aws_iam_group.analysts.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "${aws_s3_bucket.synthetic.arn}/*" }]
  })
}

resource "aws_iam_user_group_membership" "analyst" {
  user   = aws_iam_user.analyst.name
  groups = [aws_iam_group.analysts.name]
}
