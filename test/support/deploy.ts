/**
 * The CDK stack of deploy/ synthesized for tests (environment-agnostic: no AWS account or region, no Docker, no bundle): a
 * placeholder Lambda code and image stand in for `npm run deploy:bundle` and deploy/Dockerfile.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DropshipStack, type ComputeProps, type DropshipStackProps } from '../../deploy/stack.js';

export function synthStack(props: Omit<DropshipStackProps, 'compute'> & { compute?: Partial<ComputeProps> & Pick<ComputeProps, 'worker'> } = {}) {
  const app = new App({ analyticsReporting: false });
  const { compute, ...rest } = props;
  const stack = new DropshipStack(app, 'DropshipTest', {
    ...rest,
    ...(compute
      ? {
          compute: {
            image: ecs.ContainerImage.fromRegistry('dropship:test'),
            workerCode: lambda.Code.fromInline('export const handler = async () => ({ batchItemFailures: [] });'),
            ...compute,
          },
        }
      : {}),
  });
  return { stack, template: Template.fromStack(stack) };
}
