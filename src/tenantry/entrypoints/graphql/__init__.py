"""The GraphQL faces (/hub/graphql/ and /capig/graphql/), schema-first on graphql-core."""
