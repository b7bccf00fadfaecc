//! The AWS clients a pass uses, one per service trait, so tests can hand in the fake.

/// The AWS clients a pass uses.
#[derive(Debug, Clone)]
pub struct Clients<E, L, S, D, W> {
    pub ecs: E,
    pub elb: L,
    pub scaling: S,
    /// CodeDeploy, for blue/green services.
    pub deploy: D,
    /// CloudWatch, for the state of deployment alarms (health).
    pub cloudwatch: W,
}

impl<A: Clone> Clients<A, A, A, A, A> {
    /// One value that answers for every service (the in-memory fake).
    pub fn all(aws: &A) -> Self {
        Clients {
            ecs: aws.clone(),
            elb: aws.clone(),
            scaling: aws.clone(),
            deploy: aws.clone(),
            cloudwatch: aws.clone(),
        }
    }
}
